//! The one integration-test binary: every test spawns the real server (port 0, temporary
//! data dir) or the real binary, and talks HTTP to it; the model test drives the engine.

mod admin_cli;
mod api_keys;
mod bench_tool;
mod budgets;
mod bulk;
mod closed_loop;
mod compatibility;
mod concurrency;
mod contact_purchases;
mod contract;
mod contract_document;
mod contract_fuzz;
mod crash;
mod crash_transfers;
mod expiry;
mod flow;
mod helpers;
mod hostile;
mod identity_providers;
mod links;
mod model;
mod observability;
mod offers;
mod organisations;
mod otp;
mod otp_privacy;
mod receiver;
mod restart;
mod returns;
mod schemes;
mod self_service;
mod storage_faults;
mod tokens;
mod transfers;
mod users;
