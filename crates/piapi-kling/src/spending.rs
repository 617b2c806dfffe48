//! What a client with a budget has committed ([`Spending`]).

use piapi_kling_models::catalog::Usd;

/// The money a client has committed: what its unfinished creates may cost
/// and what its finished ones cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Spending {
    /// The cap.
    pub budget: Usd,
    /// The estimates of the creates not seen finished.
    pub reserved: Usd,
    /// What the finished tasks were charged.
    pub spent: Usd,
}

impl Spending {
    /// What is left: the budget less the reserved and the spent.
    pub fn remaining(&self) -> Usd {
        self.budget - self.reserved - self.spent
    }
}
