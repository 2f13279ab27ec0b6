//! One card, one entry. A middleware may show one card as several tokens (OpenSC shows
//! the OpenPGP card as "User PIN" and "User PIN (sig)"); the people in front of it see
//! one card. Tokens of one card (the same module, reader and serial) are grouped under
//! it, with the token an activation starts on and one PIN state per PIN, as the card's
//! catalog entry says (`[tokens]`).

use serde::Serialize;

use crate::catalog::Catalog;
use crate::token::{PinStatus, TokenView};

/// A card (or a software token) as one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CardEntry {
    /// The card's name: its catalog entry's, else its token's label (without the
    /// middleware's PIN suffix when it shows the card as several tokens).
    pub name: String,
    pub reader: Option<String>,
    pub serial: String,
    /// The card's tokens (PKCS#11 URIs), in the listing's order.
    pub tokens: Vec<String>,
    /// The token an activation of this card starts on.
    pub activate: String,
    /// One entry per PIN the card has (tokens sharing a PIN show it once).
    pub pins: Vec<CardPin>,
}

/// A PIN of a card: the token whose login checks it, and its state there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CardPin {
    pub token: String,
    /// The token's label, naming the PIN where a card has several ("… (User PIN (sig))").
    pub label: String,
    pub pin: PinStatus,
    pub initialized: bool,
}

/// The name shared by a card's tokens: the longest common start of their labels, without
/// an opening bracket left dangling ("OpenPGP card (User PIN)", "OpenPGP card (User PIN
/// (sig))" → "OpenPGP card").
fn common_name(labels: &[&str]) -> Option<String> {
    let first = labels.first()?;
    let mut end = first.len();
    for l in &labels[1..] {
        end = end.min(first.char_indices().zip(l.chars()).take_while(|((_, a), b)| a == b).count());
    }
    let mut start: String = first.chars().take(end).collect();
    // A bracket the labels open but part differently is cut off with what follows it.
    let mut open = Vec::new();
    for (i, c) in start.char_indices() {
        match c {
            '(' => open.push(i),
            ')' => {
                open.pop();
            }
            _ => {}
        }
    }
    if let Some(&first_open) = open.first() {
        start.truncate(first_open);
    }
    // Whole words only: a start that ends inside a word ("Carta Fi" of "Carta Firma" and
    // "Carta Fiscale") is cut back to the word before.
    let whole = labels
        .iter()
        .all(|l| l.len() == start.len() || l[start.len()..].starts_with(|c: char| c.is_whitespace() || c == '('));
    if !whole {
        start.truncate(start.rfind(char::is_whitespace).unwrap_or(0));
    }
    let name = start.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// The listing's tokens as cards, in the listing's order (each card where its first
/// token is).
pub fn group(tokens: &[TokenView], catalog: &Catalog) -> Vec<CardEntry> {
    let mut groups: Vec<Vec<&TokenView>> = Vec::new();
    for t in tokens {
        // Only tokens that name their reader and serial can be told to share a card.
        let same = |g: &&mut Vec<&TokenView>| {
            let o = g[0];
            t.reader.is_some()
                && !t.serial.is_empty()
                && o.reader == t.reader
                && o.serial == t.serial
                && o.module == t.module
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    groups.into_iter().map(|g| entry(&g, catalog)).collect()
}

fn entry(tokens: &[&TokenView], catalog: &Catalog) -> CardEntry {
    let model = tokens.iter().find_map(|t| t.catalog.as_ref()).and_then(|m| catalog.get(&m.id));
    let layout = model.map(|m| &m.tokens);
    let labels: Vec<&str> = tokens.iter().map(|t| t.label.as_str()).collect();
    let name = if tokens.len() == 1 {
        tokens[0].label.clone()
    } else {
        common_name(&labels).or_else(|| model.map(|m| m.name.clone())).unwrap_or_else(|| tokens[0].label.clone())
    };
    let activate = layout
        .and_then(|l| l.activate_suffix.as_deref())
        .and_then(|suffix| tokens.iter().find(|t| t.label.ends_with(suffix)))
        .unwrap_or(&tokens[0]);
    let pin = |t: &TokenView| CardPin {
        token: t.uri.clone(),
        label: t.label.clone(),
        pin: t.pin.clone(),
        initialized: t.initialized,
    };
    let pins = if layout.is_some_and(|l| l.shared_pin) {
        vec![pin(activate)]
    } else {
        tokens.iter().map(|t| pin(t)).collect()
    };
    CardEntry {
        name,
        reader: tokens[0].reader.clone(),
        serial: tokens[0].serial.clone(),
        tokens: tokens.iter().map(|t| t.uri.clone()).collect(),
        activate: activate.uri.clone(),
        pins,
    }
}

#[cfg(test)]
mod tests {
    use super::{common_name, group};
    use crate::catalog::{Catalog, ModelRef};
    use crate::pins::PinState;
    use crate::token::{PinStatus, TokenView};

    fn token(label: &str, reader: Option<&str>, serial: &str, model: Option<&str>, state: PinState) -> TokenView {
        TokenView {
            uri: format!("pkcs11:token={label};serial={serial}"),
            label: label.into(),
            manufacturer: "m".into(),
            model: "PKCS#15 emulated".into(),
            serial: serial.into(),
            module: "opensc-pkcs11.so".into(),
            slot_id: 0,
            slot_description: String::new(),
            reader: reader.map(str::to_owned),
            catalog: model.map(|id| ModelRef {
                id: id.into(),
                name: "n".into(),
                vendor: "v".into(),
                obsolete: false,
                renewable: true,
            }),
            initialized: true,
            pin: PinStatus { state, login_required: true, pin_pad: false },
            certificates: Vec::new(),
        }
    }

    #[test]
    fn a_card_s_tokens_are_one_entry_as_its_catalog_entry_says_and_nothing_else_is_merged() {
        let (catalog, _) = Catalog::load_with(None);
        let pgp = Some("openpgp-card-v3");
        let tokens = [
            token("OpenPGP card (User PIN)", Some("R0"), "01", pgp, PinState::Ok),
            token("OpenPGP card (User PIN (sig))", Some("R0"), "01", pgp, PinState::CountLow),
            // The same kind of card in another reader: a card of its own.
            token("OpenPGP card (User PIN)", Some("R1"), "02", pgp, PinState::Ok),
            token("OpenPGP card (User PIN (sig))", Some("R1"), "02", pgp, PinState::Ok),
            // Two tokens without a reader that share a serial: never taken for one card.
            token("Soft A", None, "77", None, PinState::Ok),
            token("Soft B", None, "77", None, PinState::Ok),
            // Two tokens of one card the catalog does not know: one entry, a PIN each.
            token("Carta Firma", Some("R2"), "03", None, PinState::Ok),
            token("Carta Fiscale", Some("R2"), "03", None, PinState::FinalTry),
        ];
        let cards = group(&tokens, &catalog);
        let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["OpenPGP card", "OpenPGP card", "Soft A", "Soft B", "Carta"]);
        let first = &cards[0];
        assert_eq!(first.tokens.len(), 2);
        assert!(first.activate.contains("(sig)"), "the catalog's activate_suffix: {first:?}");
        assert_eq!(first.pins.len(), 1, "one PW1");
        assert_eq!(first.pins[0].pin.state, PinState::CountLow, "the state of the token activation uses");
        assert_eq!(cards[1].reader.as_deref(), Some("R1"));
        let unknown = &cards[4];
        assert_eq!((unknown.tokens.len(), unknown.pins.len()), (2, 2), "a PIN per token when not known to be one");
        assert_eq!(unknown.activate, tokens[6].uri, "the first token when the catalog says nothing");
    }

    #[test]
    fn a_card_shown_as_two_tokens_is_named_by_what_their_labels_share() {
        assert_eq!(
            common_name(&["OpenPGP card (User PIN)", "OpenPGP card (User PIN (sig))"]).as_deref(),
            Some("OpenPGP card")
        );
        assert_eq!(common_name(&["PIV_II"]).as_deref(), Some("PIV_II"));
        assert_eq!(common_name(&["(a)", "(b)"]), None);
        assert_eq!(common_name(&["Carta (RM) firma", "Carta (RM) cns"]).as_deref(), Some("Carta (RM)"));
        assert_eq!(common_name(&["Carta Firma", "Carta Fiscale"]).as_deref(), Some("Carta"));
        assert_eq!(common_name(&["CNS0", "CNS1"]), None);
    }
}
