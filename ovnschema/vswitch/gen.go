// Package vswitch holds libovsdb models for the Open_vSwitch database
// (OVS 3.1's vswitch.ovsschema, copied to ../vswitch.ovsschema), which the
// controller role uses to manage the local bridge, ports and interfaces.
package vswitch

//go:generate go run github.com/ovn-kubernetes/libovsdb/cmd/modelgen -extended -p vswitch -o . ../vswitch.ovsschema
