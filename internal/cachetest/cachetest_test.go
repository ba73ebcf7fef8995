package cachetest

import (
	"testing"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

func TestNewHasEveryTable(t *testing.T) {
	nb := New(t, nbdb.Schema(), nbdb.FullDatabaseModel, nil)
	if nb.Table(nbdb.LogicalSwitchPortTable) == nil || nb.Table(nbdb.NBGlobalTable) == nil {
		t.Error("NB cache without Logical_Switch_Port or NB_Global")
	}
	sb := New(t, sbdb.Schema(), sbdb.FullDatabaseModel, nil)
	if sb.Table(sbdb.PortBindingTable) == nil || sb.Table(sbdb.LogicalFlowTable) == nil {
		t.Error("SB cache without Port_Binding or Logical_Flow")
	}
}
