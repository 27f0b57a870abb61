//! The built-in `test` gateway: it charges nothing, and answers by the card number (the
//! token of a test payment method), always alike, so a retry or a restart learns what the
//! first ask would have:
//!
//! | Token              | Answer                                                          |
//! |--------------------|-----------------------------------------------------------------|
//! | `4242424242424242` | succeeds                                                        |
//! | `4000000000000002` | declined (`card_declined`)                                      |
//! | `4000000000009995` | declined (`insufficient_funds`)                                 |
//! | `4000000000000119` | fails (`processing_error`): nothing is charged                  |
//! | `4000000000000259` | the first answer is lost (a timeout); asked again, it succeeded |
//! | `4000000000000341` | never answers: the top-up fails once it is given up on          |
//! | anything else      | declined (`unknown_test_card`)                                  |
//!
//! Holds (a payment intent with capture ON_HOLD) answer by the same table; capturing a hold
//! this gateway made succeeds (for `…0259`, the first answer is lost again); releasing one
//! always succeeds.

use super::{Charge, GatewayAnswer, GatewayFuture, PaymentGateway};
use rewards_engine::domain::payment::ChargeOutcome;

pub struct TestGateway;

pub const SUCCEEDS: &str = "4242424242424242";
pub const DECLINED: &str = "4000000000000002";
pub const INSUFFICIENT_FUNDS: &str = "4000000000009995";
pub const PROCESSING_ERROR: &str = "4000000000000119";
pub const LATE_SUCCESS: &str = "4000000000000259";
pub const NO_ANSWER: &str = "4000000000000341";

fn failed(reason: &str) -> GatewayAnswer {
    GatewayAnswer::Settled(ChargeOutcome::Failed { reason: reason.into() })
}

impl PaymentGateway for TestGateway {
    fn charge<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(std::future::ready(answer(charge, "test_ch_")))
    }

    /// Payouts answer by the same table: a card that pays also receives.
    fn payout<'a>(&'a self, payout: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(std::future::ready(answer(payout, "test_po_")))
    }

    /// Holds answer by the same table.
    fn authorise<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(std::future::ready(answer(charge, "test_au_")))
    }

    /// A hold this gateway made is captured; asked first, a late-success card's answer is
    /// lost as its charge's is.
    fn capture<'a>(&'a self, charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a> {
        let answer = match reference.strip_prefix("test_au_") {
            None => failed("no_such_authorisation"),
            Some(_) if charge.token == LATE_SUCCESS && !charge.retry => {
                GatewayAnswer::Unknown("the test card's first answer is lost".into())
            }
            Some(key) => GatewayAnswer::Settled(ChargeOutcome::Succeeded {
                charge: format!("test_ch_{key}"),
            }),
        };
        Box::pin(std::future::ready(answer))
    }

    fn release<'a>(&'a self, _charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a> {
        Box::pin(std::future::ready(GatewayAnswer::Settled(ChargeOutcome::Succeeded {
            charge: format!("test_rel_{reference}"),
        })))
    }
}

fn answer(charge: &Charge, reference: &str) -> GatewayAnswer {
    {
        let succeeded = || {
            GatewayAnswer::Settled(ChargeOutcome::Succeeded {
                charge: format!("{reference}{}", charge.key),
            })
        };
        let answer = match charge.token.as_str() {
            SUCCEEDS => succeeded(),
            DECLINED => failed("card_declined"),
            INSUFFICIENT_FUNDS => failed("insufficient_funds"),
            PROCESSING_ERROR => failed("processing_error"),
            LATE_SUCCESS if charge.retry => succeeded(),
            LATE_SUCCESS => GatewayAnswer::Unknown("the test card's first answer is lost".into()),
            NO_ANSWER => GatewayAnswer::Unknown("the test card never answers".into()),
            _ => failed("unknown_test_card"),
        };
        answer
    }
}
