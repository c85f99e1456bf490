//! vitrina: a Telegram Mini App storefront for shops on 1C-Bitrix and 1C.
//!
//! Modules are named after the domain; start at [`server`] for the HTTP application and at
//! [`cli`] for the commands.

pub mod auth;
pub mod bitrix;
pub mod cart;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod desk;
pub mod dev;
pub mod error;
pub mod exchange;
pub mod extract;
pub mod metrics;
pub mod money;
pub mod ops;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod phone;
pub mod proxy;
pub mod rate_limit;
pub mod routes;
pub mod seed;
pub mod selling;
pub mod server;
pub mod state;
pub mod store;
pub mod sync_health;
pub mod telegram;
pub mod telemetry;
pub mod web;
