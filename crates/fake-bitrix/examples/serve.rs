//! Serves a fake portal with a seeded catalog until killed, for benchmarks:
//! `serve <products> [burst] [per_second] [pictures] [variations]` prints the webhook URL, then
//! logs the requests it received and refused (and the picture files it served) to stderr as
//! they change. `pictures`: files per product (a detail picture and more photos; 0: none);
//! `variations`: trade offers per product (0: none; they get ids after the products').
//!
//! Commands on stdin, one a line, each answered on stdout with one line:
//! - `qty <id> <quantity> <notify 0|1>`: stock moves as an order or a store document moves it
//!   (with `notify`, the bound `CATALOG.PRODUCT.ON.UPDATE` handlers are called); answers
//!   `ok <unix ms when the quantity changed>`;
//! - `count`: answers `requests=<n> refused=<n>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fake_bitrix::{FakeBitrix, Limits};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // The events client (reqwest without a built-in provider), as vitrina installs it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let products: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let burst: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let per_second: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let pictures: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0);
    let variations: usize = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(0);
    let fake = FakeBitrix::start("benchcode", Limits { burst, per_second }).await?;
    fake.seed_catalog(50, products);
    if pictures > 0 {
        fake.seed_pictures(1..=products as i64, pictures - 1);
    }
    if variations > 0 {
        let ids: Vec<i64> = (1..=products as i64).collect();
        fake.seed_offers(&ids, variations);
    }
    let mut out = tokio::io::stdout();
    out.write_all(format!("{}\n", fake.webhook_url).as_bytes())
        .await?;
    out.flush().await?;
    let log = fake.clone();
    tokio::spawn(async move {
        let mut last = usize::MAX;
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (n, refused, files) = (log.requests(), log.refused(), log.downloads());
            if n + files as usize != last {
                eprintln!("requests={n} refused={refused} files={files}");
                last = n + files as usize;
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["qty", id, quantity, notify] => {
                match (id.parse::<i64>(), quantity.parse::<f64>()) {
                    (Ok(id), Ok(quantity)) => {
                        // The change is visible to REST before the handlers are called.
                        let at = unix_ms();
                        fake.set_quantity(id, quantity, *notify == "1").await;
                        format!("ok {at}")
                    }
                    _ => format!("error: bad numbers in {line:?}"),
                }
            }
            ["count"] => format!("requests={} refused={}", fake.requests(), fake.refused()),
            _ => format!("error: unknown command {line:?}"),
        };
        out.write_all(format!("{answer}\n").as_bytes()).await?;
        out.flush().await?;
    }
    // stdin closed: keep serving until killed, as before.
    std::future::pending::<()>().await;
    Ok(())
}
