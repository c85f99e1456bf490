//! Facet counts for the first page of a list: for each filterable property, how many of the
//! products matching every other filter have each value.

use super::{Query, candidates, has_any};
use crate::catalog::snapshot::Snapshot;

#[derive(Debug, PartialEq, Eq)]
pub struct FacetCounts {
    pub property: u32,
    /// (value index, products), most products first, then by value.
    pub values: Vec<(u32, u32)>,
}

/// For each filterable property, the values among products matching every other filter.
/// One pass: a product failing no property filter counts for every facet, one failing exactly
/// one counts only for that property's facet, one failing more counts for none.
pub(super) fn facets(
    snapshot: &Snapshot,
    query: &Query,
    hits: Option<&[u32]>,
) -> (Vec<FacetCounts>, Option<(i64, i64)>) {
    // Dense counters per property value (values are small indexes): no hashing in the loop
    // that runs once per matching product.
    let mut counts: Vec<Vec<u32>> = snapshot
        .properties
        .iter()
        .map(|prop| {
            if prop.filterable {
                vec![0; prop.values.len()]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut range: Option<(i64, i64)> = None;
    for i in candidates_among(snapshot, query, hits) {
        let p = &snapshot.products[i as usize];
        if query.params.in_stock && !p.in_stock {
            continue;
        }
        let mut misses = 0;
        let mut missed = None;
        for (prop, wanted) in &query.properties {
            if !has_any(p, *prop, wanted) {
                misses += 1;
                missed = Some(*prop);
                if misses > 1 {
                    break;
                }
            }
        }
        if misses > 1 {
            continue;
        }
        if misses == 0 {
            range = Some(match range {
                None => (p.min_price, p.max_price),
                Some((lo, hi)) => (lo.min(p.min_price), hi.max(p.max_price)),
            });
        }
        if !query.price_matches(p) {
            continue;
        }
        for (prop, values) in &p.facet_values {
            if !snapshot.properties[*prop as usize].filterable || missed.is_some_and(|m| m != *prop)
            {
                continue;
            }
            let counts = &mut counts[*prop as usize];
            for &v in values {
                if let Some(c) = counts.get_mut(v as usize) {
                    *c += 1;
                }
            }
        }
    }
    let facets = snapshot
        .properties
        .iter()
        .zip(counts)
        .enumerate()
        .filter(|(_, (prop, counts))| prop.filterable && counts.iter().any(|&c| c > 0))
        .map(|(pi, (prop, counts))| {
            let mut values: Vec<(u32, u32)> = counts
                .into_iter()
                .enumerate()
                .filter(|&(_, count)| count > 0)
                .map(|(v, count)| (v as u32, count))
                .collect();
            values.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| prop.values[a.0 as usize].cmp(&prop.values[b.0 as usize]))
            });
            FacetCounts {
                property: pi as u32,
                values,
            }
        })
        .collect();
    (facets, range)
}

/// The products to consider: the search hits in the section when there is a query (a few
/// hundred), else the whole section.
fn candidates_among<'a>(
    snapshot: &'a Snapshot,
    query: &Query,
    hits: Option<&'a [u32]>,
) -> Box<dyn Iterator<Item = u32> + 'a> {
    match (hits, query.section) {
        (Some(hits), Some(s)) => Box::new(
            hits.iter()
                .copied()
                .filter(move |&i| snapshot.products[i as usize].section_path.contains(&s)),
        ),
        (Some(hits), None) => Box::new(hits.iter().copied()),
        (None, _) => candidates(snapshot, query),
    }
}
