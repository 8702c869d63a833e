//! `eosim list-models`: the protocol catalogue, from each model's
//! [`ModelInfo`]: mechanism, guarantee, the checks it claims, the fault
//! classes it survives, its breakers and its anchor.

use models::protocols::{Model, ModelInfo, registry};
use models::scenario::nearest;
use serde_json::json;

use crate::Format;

/// Continuation indent of a labelled line (`  mechanism  …`).
const INDENT: &str = "             ";

/// Print the catalogue, or one model's entry; returns the exit code.
pub fn list_models(model: Option<&str>, format: Format) -> u8 {
    let models = match model {
        None => registry().models().to_vec(),
        Some(name) => match find(name) {
            Ok(m) => vec![m],
            Err(msg) => {
                errln!("error: {msg}");
                return 2;
            }
        },
    };
    match format {
        Format::Human => {
            let blocks: Vec<String> = models.iter().map(|m| entry(*m)).collect();
            crate::out(blocks.join("\n"));
        }
        Format::Json => {
            for m in &models {
                crate::outln(json!({ "type": "model", "data": data(*m) }));
            }
        }
    }
    0
}

/// The model called `name`: its printed code (`M0-naive`) or its scenario
/// name (`M0Naive`), in any case.
pub(crate) fn find(name: &str) -> Result<Model, String> {
    registry().find(name).ok_or_else(|| {
        let codes: Vec<&str> = registry().models().iter().map(|m| m.info().code).collect();
        let hint = nearest(name, codes.iter().copied())
            .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
        format!(
            "no model `{name}`{hint} (the models are {})",
            codes.join(", ")
        )
    })
}

/// The fault classes the model claims to survive, among those it can
/// meet (a model without a consumer group meets no rebalance).
fn survived(model: Model) -> Vec<&'static str> {
    model
        .info()
        .survives
        .iter()
        .filter(|f| f.applies_to(model))
        .map(|f| f.name())
        .collect()
}

/// One model's entry, wrapped at 80 columns.
fn entry(model: Model) -> String {
    let info = model.info();
    let checks: Vec<String> = info.claims.iter().map(|c| c.label()).collect();
    let survives = survived(model);
    let survives = if survives.is_empty() {
        "no fault class (see breakers)".to_string()
    } else {
        survives.join(", ")
    };
    let fields = [
        ("guarantee", info.guarantee.to_string()),
        ("mechanism", info.mechanism.to_string()),
        ("holds", checks.join(", ")),
        ("survives", survives),
        ("breakers", info.breakers.to_string()),
        ("anchor", info.anchor.to_string()),
        ("remedy", info.remedy.to_string()),
        ("fixed by", fixed_by(info)),
        ("crash at", crash_points(info)),
        ("scenario", format!("model: {}", info.name)),
    ];
    // A protocol outside the catalogue may leave some fields empty.
    let filled = fields.iter().filter(|(_, text)| !text.is_empty());
    let title = reports::text::wrap(&format!("{} · {}", info.code, info.title), "  ");
    std::iter::once(title)
        .chain(filled.map(|(label, text)| labelled(label, text)))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The crash points a scenario may name, by role.
/// The remedy's model and how to see it, if the remedy is a model.
fn fixed_by(info: &ModelInfo) -> String {
    info.fixed_by
        .and_then(|name| models::protocols::registry().get(name))
        .map(|m| {
            format!(
                "{} (`eosim diff --fix` runs a scenario under it)",
                m.info().code
            )
        })
        .unwrap_or_default()
}

fn crash_points(info: &ModelInfo) -> String {
    let mut parts = vec![format!(
        "consumer: {}",
        info.consumer_crash_points.join(", ")
    )];
    if !info.producer_crash_points.is_empty() {
        let points = info.producer_crash_points.join(", ");
        parts.push(format!("producer: {points}"));
    }
    parts.join("; ")
}

fn labelled(label: &str, text: &str) -> String {
    reports::text::wrap(&format!("  {label:<10} {text}"), INDENT)
}

fn data(model: Model) -> serde_json::Value {
    let info = model.info();
    let claims: Vec<serde_json::Value> = info
        .claims
        .iter()
        .map(|c| json!({ "code": c.code(), "name": c.name(), "jepsen": c.jepsen() }))
        .collect();
    let survives = survived(model);
    json!({
        "code": info.code,
        "model": info.name,
        "title": info.title,
        "guarantee": info.guarantee,
        "mechanism": info.mechanism,
        "claims": claims,
        "survives": survives,
        "breakers": info.breakers,
        "anchor": info.anchor,
        "remedy": info.remedy,
        "fixed_by": info.fixed_by,
        "consumer_crash_points": info.consumer_crash_points,
        "producer_crash_points": info.producer_crash_points,
    })
}
