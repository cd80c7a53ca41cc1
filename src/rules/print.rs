//! Printing syntax trees back to rule source (canonical form).
