//! The transactional outbox: a domain change and the events it causes commit in one
//! transaction; a relay then delivers each event at least once, retrying with backoff and
//! parking what keeps failing. The outbox itself arrives with the shop (issue #4).
