//! Selling inside Telegram: what brings a customer back to the shop. Favourites
//! ([`favorites`]) and alerts when a product returns to stock or gets cheaper ([`alerts`]).

pub mod alerts;
pub mod favorites;
pub mod inline;
pub mod links;
pub mod reminder;
