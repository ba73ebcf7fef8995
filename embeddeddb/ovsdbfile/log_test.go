package ovsdbfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestRoundTrip(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	for i := 1; i <= 100; i++ {
		if seq := l.Append(rec(i), i%3 == 0); seq != uint64(i) {
			t.Fatalf("Append %d returned seq %d", i, seq)
		}
	}
	if err := l.Wait(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, reopen(t, path), recs(1, 100))

	l, _, _, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, recs(101, 110)...)
	if s := l.Stats(); s.FileRecords != 110 {
		t.Errorf("FileRecords = %d, want 110", s.FileRecords)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, reopen(t, path), recs(1, 110))
}

func TestCreateCompactsSchema(t *testing.T) {
	path := dbPath(t)
	pretty := []byte("{\n  \"name\": \"T\",\n  \"version\": \"1.0.0\",\n  \"tables\": {\"T\": {\"columns\": {\"n\": {\"type\": \"integer\"}}}}\n}\n")
	l, err := Create(path, pretty, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	reopen(t, path) // checks the schema is testSchema
	if _, err := Create(dbPath(t), []byte(`[1]`), testLogger(t)); err == nil {
		t.Error("Create accepted a schema that is not an object")
	}
}

func TestCreateExisting(t *testing.T) {
	path := dbPath(t)
	mustCreate(t, path).Close()
	_, err := Create(path, testSchema, testLogger(t))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: err = %v, want fs.ErrExist", err)
	}
	if _, err := os.Stat(tempPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestLocked(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	defer l.Close()
	if _, _, _, err := Open(path, testLogger(t)); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of an open file: err = %v, want ErrLocked", err)
	}
	if err := WriteFile(path, testSchema, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("WriteFile of an open file: err = %v, want ErrLocked", err)
	}
}

func TestCloseTwiceAndAfter(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	seq := l.Append(rec(1), false)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Wait(context.Background(), seq); err != nil {
		t.Fatalf("Wait for a record appended before Close: %v", err)
	}
	late := l.Append(rec(2), true)
	if err := l.Wait(context.Background(), late); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait for a record appended after Close: %v, want ErrClosed", err)
	}
	if err := l.Wait(context.Background(), late+1); err == nil {
		t.Fatal("Wait for a record never appended succeeded")
	}
	checkRecords(t, reopen(t, path), recs(1, 1))
}

func TestWaitContext(t *testing.T) {
	l := mustCreate(t, dbPath(t))
	defer l.Close()
	l.fileMu.Lock() // no batch can complete
	seq := l.Append(rec(1), true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, seq); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
	l.fileMu.Unlock()
	if err := l.Wait(context.Background(), seq); err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommit holds the writer while many goroutines append durable
// records, so they must share fsyncs.
func TestGroupCommit(t *testing.T) {
	const n = 50
	path := dbPath(t)
	l := mustCreate(t, path)
	before := l.Stats().Syncs
	var appended, finished sync.WaitGroup
	errs := make(chan error, n)
	l.fileMu.Lock() // the writer blocks on its first batch
	for i := range n {
		appended.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			seq := l.Append(rec(i), true)
			appended.Done()
			errs <- l.Wait(context.Background(), seq)
		}()
	}
	appended.Wait()
	l.fileMu.Unlock()
	finished.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if syncs := l.Stats().Syncs - before; syncs >= n || syncs > 2 {
		t.Errorf("%d durable records took %d fsyncs", n, syncs)
	}
	l.Close()
	if got := len(reopen(t, path)); got != n {
		t.Fatalf("reopened %d records, want %d", got, n)
	}
}

// TestGroupCommitFree runs concurrent durable appends without holding the
// writer back; it only checks correctness and reports the fsync count.
func TestGroupCommitFree(t *testing.T) {
	const goroutines, each = 8, 50
	path := dbPath(t)
	l := mustCreate(t, path)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				mu.Lock()
				next++
				seq := l.Append(rec(next), true)
				mu.Unlock()
				if err := l.Wait(context.Background(), seq); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s := l.Stats()
	t.Logf("%d durable records, %d fsyncs, %d writes", goroutines*each, s.Syncs, s.Writes)
	if s.Syncs > goroutines*each {
		t.Errorf("more fsyncs (%d) than records", s.Syncs)
	}
	l.Close()
	checkRecords(t, reopen(t, path), recs(1, goroutines*each))
}

// TestQueueBound checks that Append blocks while the queue is full and that
// nothing is lost or reordered.
func TestQueueBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := dbPath(t)
		l := mustCreate(t, path)
		release := make(chan struct{})
		var once sync.Once
		l.mu.Lock()
		l.maxPending = 3 * recordSize(rec(100))
		l.beforeBatch = func() { // hold the writer once rec(0) is written
			l.mu.Lock()
			done := l.done
			l.mu.Unlock()
			if done >= 1 {
				once.Do(func() { <-release })
			}
		}
		l.mu.Unlock()
		appendWait(t, l, false, rec(0))
		// rec(0)'s Wait wrote it while the writer, woken by the Append,
		// lingered for more records; it is then held in beforeBatch.
		time.Sleep(2 * Linger)
		synctest.Wait()

		var appended atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 100; i < 120; i++ {
				l.Append(rec(i), i%2 == 0)
				appended.Add(1)
			}
		}()
		synctest.Wait() // the appender is blocked
		if n := appended.Load(); n != 3 {
			t.Errorf("%d Appends returned while the queue holds 3 records", n)
		}
		close(release)
		<-done
		if err := l.Wait(context.Background(), l.LastSeq()); err != nil {
			t.Fatal(err)
		}
		l.Close()
		checkRecords(t, reopen(t, path), append(recs(0, 0), recs(100, 119)...))
	})
}

// TestWaitTimeout: a waiter whose record is in another goroutine's batch
// gives up after its timeout, and succeeds once that batch is written.
func TestWaitTimeout(t *testing.T) {
	l := mustCreate(t, dbPath(t))
	defer l.Close()
	l.fileMu.Lock() // stands for the goroutine writing the batch
	seq := l.Append(rec(1), true)
	l.mu.Lock()
	b, _ := l.takeLocked()
	l.mu.Unlock()
	if err := l.WaitTimeout(seq, 20*time.Millisecond); !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("WaitTimeout while the batch is in flight: %v, want ErrWaitTimeout", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.WaitTimeout(seq, time.Minute) }()
	l.writeBatch(b)
	l.fileMu.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("WaitTimeout after the batch was written: %v", err)
	}
	if err := l.WaitTimeout(l.Append(rec(2), true), time.Minute); err != nil {
		t.Fatalf("WaitTimeout of a lone durable record: %v", err)
	}
	l.Close()
	checkRecords(t, reopen(t, l.Path()), recs(1, 2))
}

// TestAppendQuiet: records appended quietly do not wake the writer
// goroutine, however long they wait; WriteQueued writes them in the
// caller, all in one write; and when a batch holds the file it leaves
// them to the writer goroutine instead of waiting.
func TestAppendQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := dbPath(t)
		l := mustCreate(t, path)
		defer l.Close() // also when the test fails: no goroutine stays behind
		synctest.Wait() // the writer waits for work
		for i := 1; i <= 10; i++ {
			if seq := l.AppendQuiet(rec(i)); seq != uint64(i) {
				t.Fatalf("AppendQuiet %d returned seq %d", i, seq)
			}
		}
		time.Sleep(10 * Linger)
		synctest.Wait()
		if s := l.Stats(); s.Writes != 0 || s.Records != 0 {
			t.Fatalf("quiet records were written without WriteQueued: %+v", s)
		}
		l.WriteQueued()
		if s := l.Stats(); s.Writes != 1 || s.Records != 10 {
			t.Fatalf("after WriteQueued: %d writes of %d records, want 1 of 10", s.Writes, s.Records)
		}
		if err := l.Wait(context.Background(), 10); err != nil {
			t.Fatal(err)
		}

		l.fileMu.Lock() // a batch or a compaction's swap holds the file
		for i := 11; i <= 15; i++ {
			l.AppendQuiet(rec(i))
		}
		l.WriteQueued() // must not wait for fileMu
		l.fileMu.Unlock()
		time.Sleep(2 * Linger)
		synctest.Wait()
		if s := l.Stats(); s.Records != 15 {
			t.Fatalf("the writer goroutine did not take over: %d records written, want 15", s.Records)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		checkRecords(t, reopen(t, path), recs(1, 15))
	})
}
