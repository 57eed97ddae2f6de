//! The vocabulary of the chiefs' meetings' records (`service::meetings` keeps them).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

str_enum! {
    /// What a meeting decided about a measure.
    pub enum DecisionKind {
        /// Beslutad ny åtgärd.
        Created = "created",
        /// Ändrad.
        Changed = "changed",
        /// Avslutad.
        Closed = "closed",
    }
}

/// One decision of a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The measure.
    pub measure: Uuid,
    /// What was decided.
    pub change: DecisionKind,
}
