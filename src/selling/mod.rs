//! Selling inside Telegram: what brings a customer back to the shop. Favourites
//! ([`favorites`]) and, later, alerts when a product returns to stock or gets cheaper.

pub mod favorites;
