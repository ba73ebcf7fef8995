package controller

import (
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// TestChangeLogNbCfgWhole: whatever order libovsdb hands a transaction's
// rows over in, the change log reports SB_Global's new nb_cfg only once
// the port binding written with it has been recorded, so a take after
// nbCfg has the binding.
func TestChangeLogNbCfgWhole(t *testing.T) {
	for i := range 20 {
		tc := cachetest.New(t, sbdb.Schema(), sbdb.FullDatabaseModel, nil)
		l := newChangeLog()
		l.watch(tc)
		// A slow handler ahead of the log's holds the binding's event
		// back, as a busy machine would.
		tc.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(table string, _ model.Model) {
			if table == sbdb.PortBindingTable {
				time.Sleep(30 * time.Millisecond)
			}
		}})
		tc.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(table string, m model.Model) { l.record(table, m) }})
		pb := "33333333-0000-4000-8000-00000000000" + string(rune('0'+i%10))
		err := tc.Populate2(ovsdb.TableUpdates2{
			sbdb.SBGlobalTable: {"9a1b6b8e-0000-4000-8000-000000000001": &ovsdb.RowUpdate2{
				Initial: &ovsdb.Row{"nb_cfg": i + 1}}},
			sbdb.PortBindingTable: {pb: &ovsdb.RowUpdate2{
				Initial: &ovsdb.Row{"logical_port": "p1", "tunnel_key": 1}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go tc.Run(stop)
		deadline := time.Now().Add(5 * time.Second)
		taken := false
		for {
			cfg := l.nbCfg()
			cs := l.take()
			_, ok := cs.Tables[sbdb.PortBindingTable][pb]
			taken = taken || ok
			if cfg == int64(i+1) {
				if !taken {
					t.Fatalf("round %d: nb_cfg %d reported before the binding written with it was taken", i, cfg)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: nb_cfg %d never reported", i, i+1)
			}
			time.Sleep(10 * time.Microsecond)
		}
		close(stop)
	}
}

// TestChangeLogRowUUIDs: rows of the Open_vSwitch models, which have no
// GetUUID, are recorded by UUID like the SB's, not as a Full change; a
// row without a UUID still is one.
func TestChangeLogRowUUIDs(t *testing.T) {
	l := newChangeLog()
	l.record(vswitch.InterfaceTable, &vswitch.Interface{UUID: "11111111-0000-4000-8000-000000000001"})
	l.record(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "22222222-0000-4000-8000-000000000002"})
	cs := l.take()
	if cs.Full {
		t.Fatal("rows with UUIDs made a Full change")
	}
	if _, ok := cs.Tables[vswitch.InterfaceTable]["11111111-0000-4000-8000-000000000001"]; !ok {
		t.Errorf("the Interface row is not recorded: %v", cs.Tables)
	}
	if _, ok := cs.Tables[sbdb.PortBindingTable]["22222222-0000-4000-8000-000000000002"]; !ok {
		t.Errorf("the Port_Binding row is not recorded: %v", cs.Tables)
	}
	l.record(vswitch.InterfaceTable, &vswitch.Interface{})
	if !l.take().Full {
		t.Error("a row without a UUID did not make a Full change")
	}
}
