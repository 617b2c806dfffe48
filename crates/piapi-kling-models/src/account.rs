//! Reading [`AccountInfo`] whichever of its shapes PiAPI sends: the older flat
//! fields (`account_id`, `account_name`, `credits`) or the newer ones (`id`,
//! `name`, `credit_pack_info`), with `equivalent_in_usd` in both.

use crate::{AccountInfo, ActiveTasks, ProviderActiveTasks};

/// Units of `credits` per US dollar (1 unit = 1e-7 USD, as `meta.usage`).
const UNITS_PER_USD: f64 = 10_000_000.0;

impl AccountInfo {
    /// The account id: `id` (a number) or the older `account_id`.
    pub fn account_id_text(&self) -> Option<String> {
        self.id
            .map(|id| id.to_string())
            .or_else(|| self.account_id.clone().filter(|id| !id.is_empty()))
    }

    /// The account name: `name` or the older `account_name`.
    pub fn display_name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.account_name.as_deref())
            .filter(|name| !name.is_empty())
    }

    /// The balance in US dollars: `equivalent_in_usd` (PiAPI's "valid USD
    /// balance"), else the older `credits` converted from 1e-7 USD.
    pub fn balance_usd(&self) -> Option<f64> {
        self.equivalent_in_usd
            .or_else(|| self.credits.map(|units| units as f64 / UNITS_PER_USD))
    }
}

impl ActiveTasks {
    /// The counts of one provider (`kling`, `midjourney`…), if PiAPI listed it.
    pub fn provider(&self, name: &str) -> Option<ProviderActiveTasks> {
        serde_json::from_value(self.extra.get(name)?.clone()).ok()
    }

    /// Every provider PiAPI listed, with its counts.
    pub fn providers(&self) -> Vec<(String, ProviderActiveTasks)> {
        self.extra
            .iter()
            .filter_map(|(name, value)| {
                Some((name.clone(), serde_json::from_value(value.clone()).ok()?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_read_the_same() {
        let old: AccountInfo =
            serde_json::from_str(r#"{"account_id":"a1","account_name":"me","credits":25000000}"#)
                .unwrap();
        assert_eq!(old.account_id_text().as_deref(), Some("a1"));
        assert_eq!(old.display_name(), Some("me"));
        assert_eq!(old.balance_usd(), Some(2.5));
        let new: AccountInfo = serde_json::from_str(
            r#"{"id":42,"name":"me","plan":"pro","equivalent_in_usd":3.25,
                "credit_pack_info":{"available_credits":100,"used_credits":5}}"#,
        )
        .unwrap();
        assert_eq!(new.account_id_text().as_deref(), Some("42"));
        assert_eq!(new.balance_usd(), Some(3.25));
    }
}
