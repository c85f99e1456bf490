//! `vitrina bitrix …`.

use clap::Subcommand;

use crate::config::Config;
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum BitrixCommand {
    /// Check the webhook URL, its scopes and methods, the user field, the event binding and
    /// the [bitrix] config; print what is missing and how to fix it.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Create the Telegram user field and bind the order events (safe to run again).
    Setup,
    /// Sync the catalog now: changes since the last sync, or everything with --full.
    Sync {
        #[arg(long)]
        full: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: Config, command: BitrixCommand) -> anyhow::Result<()> {
    let client = super::client(&config)?;
    match command {
        BitrixCommand::Check { json } => {
            let mut report = super::setup::check(&client, &config).await;
            // What the orders say and the syncs' health, when the database is reachable from here.
            let health = match Store::connect(&config.database).await {
                Ok(store) => {
                    super::setup::check_orders(&store, &mut report).await;
                    crate::sync_health::states(&store).await.ok()
                }
                Err(e) => {
                    tracing::warn!(error = %e, "bitrix check: database not reachable; orders and sync health not checked");
                    None
                }
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "findings": report.findings,
                        "sync": health,
                    }))?
                );
            } else {
                print!("{}", report.render());
                for source in crate::sync_health::Source::ALL {
                    let state = health
                        .as_ref()
                        .and_then(|h| h.iter().find(|s| s.source == source.label()));
                    println!(
                        "  sync {}: {}",
                        source.label(),
                        crate::sync_health::describe(state)
                    );
                }
            }
            if !report.passed() {
                anyhow::bail!("the Bitrix backend is not ready (see above)");
            }
            println!("Bitrix backend ready");
            Ok(())
        }
        BitrixCommand::Setup => {
            for line in super::setup::setup(&client, &config).await? {
                println!("{line}");
            }
            Ok(())
        }
        BitrixCommand::Sync { full, json } => {
            use indicatif::{ProgressBar, ProgressStyle};
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {pos} items ({per_sec}) {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            let result = super::sync::sync(&client, &config, &store, full, {
                let bar = bar.clone();
                move |n| bar.set_position(n)
            })
            .await;
            bar.finish_and_clear();
            let report = result?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "catalog version {} published ({}) in {:.1}s: {} sections, {} products, {} prices, \
                     pictures of {} products read ({} files fetched); {} requests to Bitrix",
                    report.version,
                    if report.full { "full" } else { "changes" },
                    report.elapsed_ms as f64 / 1000.0,
                    report.sections,
                    report.products,
                    report.prices,
                    report.pictures_listed,
                    report.pictures_downloaded,
                    report.requests
                );
                for w in &report.warnings {
                    println!("warning: {w}");
                }
                if report.pictures_retry > 0 {
                    println!(
                        "pictures of {} products could not all be fetched; the next sync tries them again",
                        report.pictures_retry
                    );
                }
            }
            Ok(())
        }
    }
}
