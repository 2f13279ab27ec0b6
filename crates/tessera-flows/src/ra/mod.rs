//! The registration authority from the client's side: HTTP(S) with the RA's CA as the
//! only trust anchor, CMP, and the workflow API.

pub mod cmp;
pub mod http;
pub mod workflow;
