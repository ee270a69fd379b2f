//! The one integration-test binary: behaviour through the public API and the `riskwarn` CLI.

mod support;

mod boundary;
mod buckets;
mod cases;
mod cli_docs;
mod codes;
mod columns;
mod compact;
mod contract_docs;
mod estimators;
mod evaluate;
mod export;
mod features;
mod generate;
mod kernel;
mod labels;
mod messages;
mod metrics;
mod model;
mod notebooks;
mod outputs;
mod overrides;
mod plan;
mod points;
mod registry;
mod run;
mod spark;
mod uscc;
mod validate;
mod validate_props;
