//! Real SSH and SMTP servers on loopback for the tests that need them.
