// Package stdlib is flow's standard library: the money types, the built-in
// functions of the expression language, and (in subpackages) the connector
// schemas.
//
// It takes in nothing but values and gives back CEL declarations and values:
//
//   - Decimal and Minor are the two money values. Decimal is an exact amount
//     in major units (20.00 USD); Minor is an integer amount in a currency's
//     minor units as a gateway sends it (2000). The checker keeps them apart:
//     there is no operator between a Minor and a Decimal, a double or (for +
//     and -) a plain int, so every conversion is written out with money() or
//     minor().
//   - Exponent, ISOExponent, FromMinor and ToMinor convert between the two
//     using the ISO 4217 table and the gateway's own minor-unit rules.
//   - Library returns the cel.EnvOption that declares every built-in function
//     and binds its implementation; Functions lists them for hover, completion
//     and did-you-mean.
//
// Run-time failures (an unknown currency, a division by zero, an amount that
// is not a whole number of minor units) are CEL error values with a message
// naming the function, never panics. The functions do no I/O; the only
// non-deterministic one, now(), reads the clock given with WithClock.
//
// Connector schemas (stripe, d365fo, ...) live in subpackages, with their
// shared types in schema: types only, no I/O.
package stdlib
