//! Counts the items in a CommerceML file and prints how long reading took.
//!
//! ```text
//! cargo run --release --example count -- path/to/offers.xml
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use commerceml::{Item, Reader};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: count <file.xml>");
        return ExitCode::from(2);
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let mut reader = match Reader::from_path(&path) {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("cannot open {}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for item in &mut reader {
        let kind = match item {
            Ok(Item::Document(_)) => "documents",
            Ok(Item::Group(_)) => "groups",
            Ok(Item::Property(_)) => "properties",
            Ok(Item::PriceType(_)) => "price types",
            Ok(Item::Warehouse(_)) => "warehouses",
            Ok(Item::Product(_)) => "products",
            Ok(Item::Offer(_)) => "offers",
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        *counts.entry(kind).or_default() += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "schema {}, encoding {}",
        reader.schema_version().unwrap_or("?"),
        reader.encoding()
    );
    for (kind, n) in &counts {
        println!("{kind}: {n}");
    }
    let secs = elapsed.as_secs_f64();
    let mib = size as f64 / (1024.0 * 1024.0);
    println!(
        "{:.1} MiB in {:.3} s ({:.1} MiB/s, {:.0} items/s)",
        mib,
        secs,
        if secs > 0.0 { mib / secs } else { 0.0 },
        if secs > 0.0 {
            counts.values().sum::<u64>() as f64 / secs
        } else {
            0.0
        }
    );
    ExitCode::SUCCESS
}
