// Package docs holds tsnctl's documentation (the Markdown files beside this one) and the tests that
// keep it usable: README.md stays a short front door, every link in every Markdown file of the
// tree leads to a file and heading that exist inside the repository, every Makefile target says
// what it does in `make help`, and git tracks sources only, never build output.
//
// It has no code of its own: `go test ./docs` runs the checks (make docs-check, part of make test).
package docs
