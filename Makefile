# Thin wrappers around the .ci scripts, which also work without make.
.PHONY: build test run-db lab package clean

# build: ./ovnd with the version (git describe, else "dev") stamped in.
build:
	.ci/build

# test: install what the tests need (apt packages, Go modules), go vet and
# go test every package: the same as CI.
test:
	.ci/run

# run-db: build ovnd and run it in the foreground as the OVN central
# database at OVN's default socket paths.
run-db:
	.ci/run-db

# lab: build ovnd and run `ovnd lab --demo` as root: a single-node OVN
# with VMs as network namespaces that ping each other. Ctrl-C stops it.
lab:
	.ci/run-lab

# package: build the .deb and .rpm into dist/ (nfpm, from packaging/); see
# README.md, "Installing from packages".
package:
	.ci/package

# difftest-report: run every northd differential scenario, the test bed's
# topologies and the benchmark's (at 500 switches x 20 ports) through
# ovn-northd 23.03 and ovnd's northd, and rewrite northd/difftest/REPORT.md.
# Needs ovsdb-server, ovn-northd, ovn-nbctl and ovn-sbctl.
difftest-report:
	go run ./northd/difftest/difftest -markdown northd/difftest/REPORT.md \
		northd/difftest/testdata/*.txt northd/difftest/testdata/routers/*.txt bench:500x20 || [ $$? -eq 1 ]

clean:
	rm -f ovnd
