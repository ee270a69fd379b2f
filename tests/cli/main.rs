//! The one integration-test binary: behaviour through the public API and the `riskwarn` CLI.

mod support;

mod contract_docs;
mod features;
mod generate;
mod labels;
mod metrics;
mod model;
mod uscc;
mod validate;
