//! Serves a fake portal with a seeded catalog until killed, for benchmarks:
//! `serve <products> [burst] [per_second] [pictures]` prints the webhook URL, then logs the
//! requests it received and refused (and the picture files it served) to stderr as they
//! change. `pictures`: files per product (a detail picture and more photos; 0: none).

use std::time::Duration;

use fake_bitrix::{FakeBitrix, Limits};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let products: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let burst: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50);
    let per_second: f64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let pictures: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0);
    let fake = FakeBitrix::start("benchcode", Limits { burst, per_second }).await?;
    fake.seed_catalog(50, products);
    if pictures > 0 {
        fake.seed_pictures(1..=products as i64, pictures - 1);
    }
    println!("{}", fake.webhook_url);
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (n, refused, files) = (fake.requests(), fake.refused(), fake.downloads());
        if n + files as usize != last {
            eprintln!("requests={n} refused={refused} files={files}");
            last = n + files as usize;
        }
    }
}
