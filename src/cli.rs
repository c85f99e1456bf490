//! The `vitrina` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Secret};
use crate::outbox::{JobState, Outbox};
use crate::server::{Application, shutdown_signal};
use crate::store::Store;
use crate::telemetry::{self, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "vitrina",
    version,
    about = "Telegram Mini App storefront for shops on 1C-Bitrix and 1C"
)]
pub struct Cli {
    /// Configuration file (TOML). `VITRINA_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, global = true, env = "VITRINA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "VITRINA_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the shop: HTTP server, API, bot webhook and background workers.
    Serve {
        /// Listen address, overriding server.listen.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Run a demo shop on a local SQLite file, with dev sign-in, openable in a browser.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the demo keeps its database.
        #[arg(long, default_value = "vitrina-demo")]
        data_dir: PathBuf,
        /// Keep the demo in this database instead of the SQLite file in the data dir
        /// (e.g. postgres://127.0.0.1/vitrina_demo, to try or benchmark on PostgreSQL).
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import a CommerceML catalog: XML files, a folder as 1C writes it, or a .zip package.
    Import {
        /// import.xml, offers.xml, prices/rests files, folders or .zip packages.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Inspect and repair the outbox of external side effects.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The Telegram bot.
    Telegram {
        #[command(subcommand)]
        command: TelegramCommand,
    },
    /// Telegram Payments.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// The Bitrix backend: check the webhook, set up the portal, sync the catalog.
    Bitrix {
        #[command(subcommand)]
        command: crate::bitrix::cli::BitrixCommand,
    },
    /// Orders: list, show, change status (for shops without Bitrix).
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
    },
    /// Write a consistent copy of the database while the shop runs (SQLite: a ready
    /// database file; PostgreSQL: a pg_dump custom-format archive for pg_restore).
    Backup {
        /// The new backup file.
        to: PathBuf,
    },
    /// Print t.me links that open the shop on a product, a section or a search (for channel
    /// posts and messages).
    Links {
        #[command(subcommand)]
        command: LinksCommand,
        /// The bot's username; asked from Telegram (getMe) when not given.
        #[arg(long, global = true)]
        bot: Option<String>,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand, Debug)]
pub enum LinksCommand {
    /// A product, by its id in the catalog.
    Product { id: String },
    /// A catalog section, by its id.
    Section { id: String },
    /// A search for the given words.
    Search {
        #[arg(required = true)]
        words: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PaymentsCommand {
    /// Refund an order's Telegram Stars payment (refundStarPayment).
    Refund { order: i64 },
}

#[derive(Subcommand, Debug)]
pub enum TelegramCommand {
    /// Check the token and set the webhook, menu button, commands and descriptions (safe to
    /// run again).
    Setup {
        /// Print the calls instead of making them.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrdersCommand {
    /// Newest orders first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 30)]
        limit: i64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One order with its items and status timeline.
    Show { id: i64 },
    /// Move an order to another status (as orders.transitions allow).
    SetStatus {
        id: i64,
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Cancel an order; its goods go back to stock.
    Cancel {
        id: i64,
        #[arg(long)]
        note: Option<String>,
    },
    /// Orders staff must look at: paid after they were cancelled (refund them with
    /// `vitrina payments refund`, which clears the mark).
    Attention,
    /// Orders placed on the days from..=to (the shop's time zone, shop.time_zone) as CSV
    /// for Excel: the same bytes as the desk's GET /api/v1/staff/orders.csv.
    Export {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD (at most a year after --from).
        #[arg(long)]
        to: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate the configuration and print it with secrets redacted.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// List jobs, newest first.
    List {
        /// pending, done or dead; all when omitted.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Requeue a dead or stuck job with a fresh attempt budget.
    Retry {
        /// Job id.
        id: Option<i64>,
        /// Requeue every dead job.
        #[arg(long, conflicts_with = "id")]
        all_dead: bool,
    },
    /// Delete a job that is not done, so that it never runs.
    Drop { id: i64 },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let load = || Config::load(cli.config.as_deref());
    match cli.command {
        Command::Links { command, bot } => {
            let config = load()?;
            links(&config, command, bot).await
        }
        Command::Version => {
            println!("vitrina {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            let config = load()?;
            print!("{}", config.to_redacted_toml());
            eprintln!("config OK");
            Ok(())
        }
        Command::Backup { to } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            let bytes = crate::store::backup::backup(&store, &config.database, &to).await?;
            println!(
                "backup of the {} database written to {} ({bytes} bytes)",
                store.backend().name(),
                to.display()
            );
            Ok(())
        }
        Command::Migrate => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            let applied = store.migrate().await?;
            println!(
                "{applied} migration(s) applied; schema is current ({})",
                store.backend().name()
            );
            Ok(())
        }
        Command::Import { paths, json } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            import(&config, &store, &paths, json).await
        }
        Command::Serve { listen } => {
            let mut config = load()?;
            if let Some(addr) = listen {
                config.server.listen = addr;
            }
            serve(config, false).await
        }
        Command::Demo {
            listen,
            data_dir,
            database,
        } => {
            let mut config = load()?;
            config.server.listen = listen;
            config.server.public_url = format!("http://{listen}");
            let db = data_dir.join("vitrina.db");
            config.database.url =
                Secret::new(database.unwrap_or_else(|| format!("sqlite://{}", db.display())));
            config.catalog.media_dir = data_dir.join("media");
            config.dev.enabled = true;
            if config.telegram.bot_token.is_none() {
                config.telegram.bot_token = Some(Secret::new(crate::auth::DEMO_BOT_TOKEN));
            }
            config.validate()?;
            serve(config, true).await
        }
        Command::Telegram {
            command: TelegramCommand::Setup { dry_run },
        } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            store.migrate().await?;
            let secret = crate::telegram::updates::webhook_secret(&config, &store).await?;
            let api = crate::telegram::BotApi::new(&config.telegram);
            if api.is_none() && !dry_run {
                anyhow::bail!(
                    "telegram.bot_token is not set: create the bot with @BotFather and set VITRINA_TELEGRAM__BOT_TOKEN"
                );
            }
            crate::telegram::setup::run(&config, api.as_ref(), &secret, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("telegram setup stopped: {e}"))?;
            Ok(())
        }
        Command::Payments {
            command: PaymentsCommand::Refund { order },
        } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            store.ready().await?;
            crate::payments::refund(&config, &store, order)
                .await
                .map_err(|e| anyhow::anyhow!("refund of order {order}: {e}"))?;
            println!("order {order}: Stars payment refunded");
            Ok(())
        }
        Command::Bitrix { command } => crate::bitrix::cli::run(load()?, command).await,
        Command::Orders { command } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            store.ready().await?;
            orders(&config, &store, command).await
        }
        Command::Outbox { command } => {
            let config = load()?;
            let store = Store::connect(&config.database).await?;
            store.ready().await?;
            outbox(Outbox::new(store, config.outbox.clone()), command).await
        }
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    if demo {
        let state = app.state();
        if let Some(report) =
            crate::catalog::demo::seed_if_empty(&state.store, &state.config.catalog).await?
        {
            tracing::info!(
                products = report.products,
                offers = report.offers,
                "demo catalog imported"
            );
            // Serve it from the first request, not after the next refresh tick.
            state.catalog.refresh().await?;
        }
    }
    let addr = app.local_addr();
    let state = app.state();
    tracing::info!(
        %addr,
        instance = %state.instance,
        database = state.store.backend().name(),
        public_url = %state.config.server.public_url,
        "vitrina {} listening",
        env!("CARGO_PKG_VERSION")
    );
    if demo {
        println!(
            "\n  vitrina demo shop is running: open http://{addr}/ in a browser\n  (Ctrl+C stops it)\n"
        );
    }
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn import(
    config: &Config,
    store: &Store,
    paths: &[PathBuf],
    json: bool,
) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {pos} items ({per_sec}) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let source = format!(
        "cli:{}",
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let importer = crate::catalog::import::Importer::new(store, &config.catalog).on_progress({
        let bar = bar.clone();
        move |n| bar.set_position(n)
    });
    let result = importer.import_paths(paths, &source).await;
    bar.finish_and_clear();
    let report = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "catalog version {} published ({}) in {:.1}s from {} file(s), {} items ({:.0}/s)",
        report.version,
        report.kind,
        report.elapsed_ms as f64 / 1000.0,
        report.files.len(),
        report.items,
        report.items as f64 / (report.elapsed_ms.max(1) as f64 / 1000.0)
    );
    println!(
        "  sections {}  properties {}  price types {}  warehouses {}",
        report.sections, report.properties, report.price_types, report.warehouses
    );
    println!(
        "  products {}  offers {}  prices {}",
        report.products, report.offers, report.prices
    );
    println!(
        "  images: {} new, {} linked",
        report.images_added, report.images_linked
    );
    println!(
        "  removed: {} sections, {} products, {} offers",
        report.removed_sections, report.removed_products, report.removed_offers
    );
    if report.warnings_total > 0 {
        println!("  {} warning(s):", report.warnings_total);
        for w in &report.warnings {
            println!("    {w}");
        }
        if report.warnings_total > report.warnings.len() as u64 {
            println!(
                "    … and {} more",
                report.warnings_total - report.warnings.len() as u64
            );
        }
    }
    Ok(())
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn print_order(o: &crate::orders::Order) {
    println!(
        "order {} (id {})  status {}{}  payment {} ({})",
        o.number,
        o.id,
        o.status,
        o.status_name
            .as_deref()
            .map(|n| format!(" «{n}» (the master's, unmapped)"))
            .unwrap_or_default(),
        o.payment_state,
        o.payment_method
    );
    if o.refund_due > 0 {
        println!(
            "  ⚠ refund due: {} {} (the master lowered a paid order's total)",
            money(o.refund_due),
            o.total.currency
        );
    }
    if let Some(reason) = &o.cancel_reason {
        println!("  cancelled: {reason}");
    }
    if let Some(t) = &o.tracking_number {
        println!("  tracking number: {t}");
    }
    println!(
        "  {} {}{}",
        o.contact.name,
        o.contact.phone,
        o.comment
            .as_deref()
            .map(|c| format!("  «{c}»"))
            .unwrap_or_default()
    );
    println!(
        "  delivery {} {}{}",
        o.delivery.method,
        money(o.delivery.price),
        o.delivery
            .address
            .as_deref()
            .or(o.delivery.pickup_point.as_deref())
            .map(|a| format!("  {a}"))
            .unwrap_or_default()
    );
    for i in &o.items {
        println!(
            "  {} × {}{}  {} = {}",
            i.quantity,
            i.name,
            i.variant
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default(),
            money(i.price),
            money(i.total)
        );
    }
    println!("  total {} {}", money(o.total.amount), o.total.currency);
    for e in &o.timeline {
        let at = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(e.at.max(0) as u64),
        );
        println!(
            "  {at}  {:<10} {}{}",
            e.status,
            e.actor,
            e.note
                .as_deref()
                .map(|n| format!("  «{n}»"))
                .unwrap_or_default()
        );
    }
}

async fn orders(config: &Config, store: &Store, command: OrdersCommand) -> anyhow::Result<()> {
    use crate::orders;
    let outbox = Outbox::new(store.clone(), config.outbox.clone());
    match command {
        OrdersCommand::List {
            status,
            limit,
            json,
        } => {
            for o in orders::list(store, None, status.as_deref(), limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&o)?);
                } else {
                    println!(
                        "{:>10}  {:<10} {:>12} {}  {}  {}",
                        o.number,
                        o.status,
                        money(o.total.amount),
                        o.total.currency,
                        o.contact.name,
                        o.contact.phone
                    );
                }
            }
            Ok(())
        }
        OrdersCommand::Show { id } => {
            let o = orders::load_any(store, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("order {id} does not exist"))?;
            print_order(&o);
            Ok(())
        }
        OrdersCommand::SetStatus { id, status, note } => {
            let o = orders::set_status(config, store, &outbox, id, &status, note.as_deref(), "cli")
                .await?;
            println!("order {} is now {}", o.number, o.status);
            Ok(())
        }
        OrdersCommand::Cancel { id, note } => {
            let to = orders::holds::cancel_status(config).ok_or_else(|| {
                anyhow::anyhow!("no status returns goods to stock (orders.restock_on is empty)")
            })?;
            let o =
                orders::set_status(config, store, &outbox, id, to, note.as_deref(), "cli").await?;
            println!("order {} cancelled; its goods are back in stock", o.number);
            Ok(())
        }
        OrdersCommand::Export { from, to, out } => {
            use crate::desk::Day;
            let day = |name: &str, v: &str| {
                Day::parse(v).ok_or_else(|| {
                    anyhow::anyhow!("--{name}: expected a date YYYY-MM-DD, got {v:?}")
                })
            };
            let (from, to) = (day("from", &from)?, day("to", &to)?);
            if from > to {
                anyhow::bail!("--from is after --to");
            }
            if to.0 - from.0 + 1 > crate::desk::summary::MAX_DAYS {
                anyhow::bail!(
                    "at most {} days (a year) at once; export year by year",
                    crate::desk::summary::MAX_DAYS
                );
            }
            let bytes = crate::desk::csv::export(config, store, from, to).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    eprintln!("{} bytes written to {}", bytes.len(), path.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
            Ok(())
        }
        OrdersCommand::Attention => {
            let flagged = crate::payments::late::flagged(store).await?;
            if flagged.is_empty() {
                println!("no order needs attention");
            }
            for (id, number, why, since) in flagged {
                let at = humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(since.max(0) as u64),
                );
                println!("{id}\t{number}\t{why}\tsince {at}");
            }
            Ok(())
        }
    }
}

async fn outbox(outbox: Outbox, command: OutboxCommand) -> anyhow::Result<()> {
    match command {
        OutboxCommand::List { state, limit, json } => {
            let state = match state.as_deref() {
                None | Some("all") => None,
                Some(s) => Some(JobState::parse(s).ok_or_else(|| {
                    anyhow::anyhow!("--state: expected pending, done, dead or all, got {s:?}")
                })?),
            };
            let rows = outbox.list(state, limit).await?;
            if json {
                for row in &rows {
                    println!("{}", serde_json::to_string(row)?);
                }
            } else {
                println!(
                    "{:>8}  {:<8} {:<28} {:>8}  {:<20}  last error",
                    "id", "state", "kind", "attempts", "next run"
                );
                for r in &rows {
                    let when = humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_millis(r.run_at.max(0) as u64),
                    );
                    println!(
                        "{:>8}  {:<8} {:<28} {:>4}/{:<3}  {:<20}  {}",
                        r.id,
                        r.state,
                        r.kind,
                        r.attempts,
                        r.max_attempts,
                        when.to_string(),
                        r.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        OutboxCommand::Retry { id, all_dead } => {
            if id.is_none() && !all_dead {
                anyhow::bail!("outbox retry: give a job id or --all-dead");
            }
            let n = outbox.retry(id).await?;
            if n == 0 {
                anyhow::bail!("no job to retry (it does not exist or is done already)");
            }
            println!("{n} job(s) requeued");
            Ok(())
        }
        OutboxCommand::Drop { id } => {
            if !outbox.drop_job(id).await? {
                anyhow::bail!("job {id} does not exist or is done already");
            }
            println!("job {id} dropped");
            Ok(())
        }
    }
}

/// `vitrina links …`: checks that the product or section is in the catalog, then prints the
/// link.
async fn links(config: &Config, command: LinksCommand, bot: Option<String>) -> anyhow::Result<()> {
    use crate::selling::links::{Screen, link, start_param};
    let (screen, value, table) = match command {
        LinksCommand::Product { id } => (Screen::Product, id, Some("products")),
        LinksCommand::Section { id } => (Screen::Section, id, Some("sections")),
        LinksCommand::Search { words } => (Screen::Search, words.join(" "), None),
    };
    if let Some(table) = table {
        let store = Store::connect(&config.database).await?;
        store.ready().await?;
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {table} WHERE id = $1"
        )))
        .bind(&value)
        .fetch_optional(store.pool())
        .await?
        .is_some();
        store.close().await;
        if !found {
            anyhow::bail!("no {} {value:?} in the catalog", &table[..table.len() - 1]);
        }
    }
    if start_param(screen, &value).is_none() {
        anyhow::bail!("too long for a Telegram link (a start parameter holds 512 characters)");
    }
    let username = match bot {
        Some(b) => b,
        None => {
            let api = crate::telegram::BotApi::new(&config.telegram).ok_or_else(|| {
                anyhow::anyhow!("telegram.bot_token is not set; or give --bot <username>")
            })?;
            let me = api.call("getMe", &serde_json::json!({})).await?;
            me.get("username")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| anyhow::anyhow!("getMe answered without a username"))?
        }
    };
    println!("{}", link(&username, screen, &value));
    Ok(())
}
