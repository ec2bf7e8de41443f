//! The supplement store: catalog and cart (orders, payments, subscriptions and reviews follow).

pub mod cart;
pub mod catalog;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
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
    #[error("the cursor is not one this API returned")]
    InvalidCursor,
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

pub(crate) fn violates(
    error: &diesel::result::Error,
    kind: diesel::result::DatabaseErrorKind,
    constraint: &str,
) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(found, info)
        if std::mem::discriminant(found) == std::mem::discriminant(&kind) && info.constraint_name() == Some(constraint))
}
