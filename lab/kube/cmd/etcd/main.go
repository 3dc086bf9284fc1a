// Command etcd runs the etcd server from its published module, so the lab pins etcd in go.mod like every other
// component instead of depending on whatever version a package manager ships.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
