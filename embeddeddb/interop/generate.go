package interop

//go:generate go run github.com/ovn-kubernetes/libovsdb/cmd/modelgen -p nbdb -o nbdb /usr/share/ovn/ovn-nb.ovsschema
