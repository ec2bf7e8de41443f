//! OpenID Connect providers.

pub mod google;
