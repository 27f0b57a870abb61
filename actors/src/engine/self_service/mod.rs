//! A contact's own calls: registration and sign-in, one-time passwords, emailed links, and
//! the communications outbox that carries codes and links.

pub(in crate::engine) mod comms;
pub(in crate::engine) mod links;
pub(in crate::engine) mod otp;
pub(in crate::engine) mod registration;
