//! The supplement store: catalog, cart, orders and reviews (payments and subscriptions follow).

pub mod billing;
pub mod cart;
pub mod catalog;
pub mod messages;
pub mod order;
pub mod payment;
pub mod review;
pub mod shipment;
pub mod subscription;

use crate::db::DbError;

/// The shop's batch settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopSettings {
    /// A shipped order nobody confirmed is delivered this long after it shipped
    /// (`PETORY_ORDER_DELIVERY_CONFIRM_DAYS`, job `confirm-deliveries`).
    pub confirm_delivery_after: chrono::TimeDelta,
    /// How many days before a renewal its subscriber is told (`PETORY_RENEWAL_NOTICE_DAYS`, job
    /// `renewal-notices`), in the business time zone.
    pub renewal_notice_days: i64,
}

impl Default for ShopSettings {
    fn default() -> Self {
        Self {
            confirm_delivery_after: chrono::TimeDelta::days(7),
            renewal_notice_days: 3,
        }
    }
}

crate::id_type! {
    /// A catalog category (`categories.id`).
    pub struct CategoryId;
}

crate::id_type! {
    /// A review of an item (`item_reviews.id`).
    pub struct ReviewId;
}

crate::id_type! {
    /// An item of the catalog (`items.id`).
    pub struct ItemId;
}

crate::id_type! {
    /// An order (`orders.id`).
    pub struct OrderId;
}

crate::id_type! {
    /// A subscription (`subscriptions.id`).
    pub struct SubscriptionId;
}

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error(transparent)]
    Upload(#[from] crate::platform::upload::UploadError),
    #[error(transparent)]
    EmailNotVerified(#[from] crate::identity::EmailNotVerified),
    #[error("no such category")]
    CategoryNotFound,
    #[error("a category with this name exists")]
    CategoryNameTaken,
    #[error("the category still has items")]
    CategoryNotEmpty,
    #[error("no such item")]
    ItemNotFound,
    #[error("no such cart line")]
    CartItemNotFound,
    #[error("item {item_id} does not have enough stock")]
    OutOfStock { item_id: ItemId },
    #[error("no such order")]
    OrderNotFound,
    #[error("an order in {status:?} cannot be cancelled here")]
    OrderNotCancelable { status: order::OrderStatus },
    #[error("an order cannot go from {from:?} to {to:?}")]
    InvalidTransition {
        from: order::OrderStatus,
        to: order::OrderStatus,
    },
    #[error("only buyers of a paid order of this item may review it")]
    NotABuyer,
    #[error("every paid order line of this item is reviewed already")]
    AlreadyReviewed,
    #[error("no such review of yours")]
    ReviewNotFound,
    #[error("an order in {status:?} cannot be paid")]
    OrderNotPayable { status: order::OrderStatus },
    #[error(transparent)]
    Gateway(payment::GatewayError),
    /// A payment return URL whose order and token do not belong together (or no payment).
    #[error("this payment link is not valid")]
    PaymentLinkInvalid,
    #[error("no such subscription")]
    SubscriptionNotFound,
    #[error("the subscription is cancelled")]
    SubscriptionCanceled,
    #[error("ordering needs a phone number and a delivery address")]
    ProfileIncomplete,
    #[error("no such delivery address")]
    AddressNotFound,
    #[error("the cursor is not one this API returned")]
    InvalidCursor,
    #[error("too many unpaid orders or units held; pay or cancel some first")]
    TooManyUnpaidOrders,
    #[error("the cart holds as many lines as it may")]
    CartFull,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for ShopError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}
