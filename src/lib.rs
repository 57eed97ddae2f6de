//! lagesbild: a shared situational picture (*gemensam lägesbild*) for municipalities and police.
//!
//! Data flows one way: HTTP ([`api`]) → use cases ([`service`]) → the in-memory R-tree
//! ([`index`]) for reads, or the database ([`store`]) for writes, which are applied to the index
//! only after they commit. [`domain`] holds the plain types all of them share.

pub mod domain;
pub mod index;
pub mod store;
pub mod service;
pub mod demo;
