//! The persistence boundary's types. A status or kind stored as text is one Rust enum, used by
//! the column (diesel maps it, and an unknown value read back is an error, never a default), by
//! JSON (serde) and by the OpenAPI document (utoipa lists its values); `schema_rules` tests that
//! each column's SQL `CHECK` lists the same values.

/// Declares a status or kind enum stored in a `TEXT` column:
///
/// ```ignore
/// text_enum! {
///     /// An order's progress.
///     pub enum OrderStatus { PendingPayment = "PENDING_PAYMENT", Paid = "PAID" }
/// }
/// ```
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write as _;
                out.write_all(self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(value.as_bytes())?;
                Self::parse(text).ok_or_else(|| {
                    format!("{text:?} is not a {} the code knows", stringify!($name)).into()
                })
            }
        }
    };
}

/// Declares an id newtype of a `BIGINT` column: a diesel type (queries take and return it) and
/// serde-transparent (JSON sees the number). One entity's id is not another's:
///
/// ```
/// use petory_core::shop::OrderId;
/// fn cancel(_order: OrderId) {}
/// cancel(OrderId(1));
/// ```
///
/// ```compile_fail
/// use petory_core::{identity::UserId, shop::OrderId};
/// fn cancel(_order: OrderId) {}
/// cancel(UserId(1)); // a user's id where an order's belongs
/// ```
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        $vis struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                value.parse().map(Self)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::BigInt, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <i64 as diesel::serialize::ToSql<diesel::sql_types::BigInt, diesel::pg::Pg>>::to_sql(
                    &self.0,
                    &mut out.reborrow(),
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::BigInt, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <i64 as diesel::deserialize::FromSql<diesel::sql_types::BigInt, diesel::pg::Pg>>::from_sql(value)
                    .map(Self)
            }
        }
    };
}

crate::id_type! {
    /// A user (`users.id`): who acts, in every domain and in the platform.
    pub struct UserId;
}

crate::text_enum! {
    /// What a user may do (`users.role`).
    pub enum Role {
        User = "USER",
        Admin = "ADMIN",
    }
}

#[cfg(test)]
mod tests {
    crate::text_enum! {
        enum Colour { Red = "RED", DeepBlue = "DEEP_BLUE" }
    }

    #[test]
    fn text_enums_read_and_write_their_text() {
        assert_eq!(Colour::DeepBlue.as_str(), "DEEP_BLUE");
        assert_eq!(Colour::parse("RED"), Some(Colour::Red));
        assert_eq!(Colour::parse("red"), None);
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DeepBlue]);
        assert_eq!(
            serde_json::to_string(&Colour::DeepBlue).unwrap(),
            "\"DEEP_BLUE\""
        );
        assert_eq!(
            serde_json::from_str::<Colour>("\"RED\"").unwrap(),
            Colour::Red
        );
        assert!(serde_json::from_str::<Colour>("\"GREEN\"").is_err());
    }
}
