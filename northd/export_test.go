package northd

// OvndDBs lets the external tests (package northd_test) start ovnd's
// database role as this package's tests do.
var OvndDBs = ovndDBs
