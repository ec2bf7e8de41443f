//! What clients see of core's text enums: the OpenAPI schema of each lists exactly the values
//! sent and accepted on the wire (which a client generated from the document compares with).

use utoipa::PartialSchema;

/// The `enum` list of a type's schema, as the document states it.
fn documented<T: PartialSchema>() -> Vec<String> {
    let schema = serde_json::to_value(T::schema()).expect("schema as JSON");
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no enum list in {schema}"))
        .iter()
        .map(|value| value.as_str().expect("text values").to_owned())
        .collect()
}

/// The values the type reads and writes, in declaration order.
fn on_the_wire<T: serde::Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .map(
            |value| match serde_json::to_value(value).expect("serializes") {
                serde_json::Value::String(text) => text,
                other => panic!("not text: {other}"),
            },
        )
        .collect()
}

macro_rules! check_all {
    ($($enum:ty),+ $(,)?) => {{
        let mut checked = 0;
        $(
            let wire = on_the_wire(<$enum>::ALL);
            assert_eq!(documented::<$enum>(), wire, "{}", stringify!($enum));
            let stored: Vec<&str> = <$enum>::ALL.iter().map(|value| value.as_str()).collect();
            assert_eq!(wire, stored, "{}: the wire and the database agree", stringify!($enum));
            checked += 1;
        )+
        checked
    }};
}

/// `text_enum!` declarations in `src/` (not the macro's own documentation and tests).
fn declared_text_enums() -> usize {
    fn walk(dir: &std::path::Path, count: &mut usize) {
        for entry in std::fs::read_dir(dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, count);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).expect("source");
                // The macro's own file declares two examples (its doc test and unit test).
                let own = if path.ends_with("types.rs") { 2 } else { 0 };
                *count += source.matches("text_enum! {").count() - own;
            }
        }
    }
    let mut count = 0;
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut count,
    );
    count
}

#[test]
fn every_text_enum_documents_the_values_on_the_wire() {
    use petory_core::calendar::EditScope;
    use petory_core::calendar::dday::DDayKind;
    use petory_core::community::board::PostCategory;
    use petory_core::community::pet::{Sex, Species};
    use petory_core::community::trade::{ListingCategory, ListingStatus};
    use petory_core::daily::album::Visibility;
    use petory_core::identity::lifecycle::NoticeKind;
    use petory_core::identity::{AccountStatus, Role};
    use petory_core::moderation::{ModerationAction, Reason, ReportStatus, Resolution, TargetType};
    use petory_core::notification::NotificationKind;
    use petory_core::place::{PetSize, PlaceCategory};
    use petory_core::platform::idempotency::KeyState;
    use petory_core::platform::image::ImageStatus;
    use petory_core::platform::outbox::EventStatus;
    use petory_core::platform::run_log::{RunStatus, Trigger};
    use petory_core::platform::upload::{ImageType, Purpose};
    use petory_core::shop::order::OrderStatus;
    use petory_core::shop::payment::{PaymentClient, PaymentProvider, PaymentStatus};
    use petory_core::shop::shipment::DeliveredBy;
    use petory_core::shop::subscription::{
        CancelReason, ChargeResolution, ChargeStatus, SubscriptionStatus,
    };
    let checked = check_all!(
        RunStatus,
        Trigger,
        PostCategory,
        Sex,
        Species,
        ModerationAction,
        Reason,
        ReportStatus,
        Resolution,
        TargetType,
        ListingCategory,
        ListingStatus,
        Visibility,
        DDayKind,
        EditScope,
        EventStatus,
        NoticeKind,
        AccountStatus,
        Role,
        NotificationKind,
        PetSize,
        PlaceCategory,
        KeyState,
        OrderStatus,
        PaymentProvider,
        PaymentStatus,
        CancelReason,
        ChargeResolution,
        ChargeStatus,
        SubscriptionStatus,
        ImageType,
        Purpose,
        ImageStatus,
        PaymentClient,
        DeliveredBy,
    );
    assert_eq!(
        checked,
        declared_text_enums(),
        "a text_enum! declared in src/ is missing from this list"
    );
}
