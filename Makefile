# Thin wrappers around the .ci scripts, which also work without make.
.PHONY: build test run-db package clean

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

# package: build the .deb and .rpm into dist/ (nfpm, from packaging/); see
# README.md, "Installing from packages".
package:
	.ci/package

clean:
	rm -f ovnd
