// v2o-vcsim: govmomi's vCenter simulator (Debian's library, 0.24) with the v2o lab add-ons
// compiled into package simulator (simext/, via `go build -overlay`), TLS with the lab's
// certificate, enforced credentials, and the seeded Windows inventory (seed.go).
// Started by test/lab/vsphere/up.sh; prints "ready" to stdout once seeded.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18989", "address to listen on")
	certFile := flag.String("cert", "", "server certificate (PEM)")
	keyFile := flag.String("key", "", "server key (PEM)")
	caFile := flag.String("ca", "", "CA that signed the certificate (the seeder pins it)")
	username := flag.String("username", "administrator@vsphere.local", "SOAP login user")
	password := flag.String("password", "", "SOAP login password (required)")
	inventory := flag.String("inventory", "", "inventory.json")
	disks := flag.String("disks", "", "directory made by make-disks.mjs (manifest.json, ds/, export/)")
	isoFiles := flag.String("iso-files", "", "file listing the virtio-win ISO's files")
	iso := flag.String("iso", "", "the virtio-win ISO (its volume label in <iso>.label)")
	readyFile := flag.String("ready", "", "write the seeded VMs as JSON here once ready")
	manifestOut := flag.String("manifest", "", "write the disk manifest here (kept up to date as guest state reaches the disks)")
	flag.Parse()
	if *password == "" || *certFile == "" || *keyFile == "" || *inventory == "" || *disks == "" {
		log.Fatal("v2o-vcsim: -password, -cert, -key, -inventory and -disks are required")
	}
	t0 := time.Now()

	inv, err := loadInventory(*inventory)
	if err != nil {
		log.Fatal(err)
	}
	if *isoFiles != "" {
		if simulator.V2oISOFiles, err = readLines(*isoFiles); err != nil {
			log.Fatal(err)
		}
	}

	if *iso != "" {
		simulator.V2oISOPath = *iso
		if b, err := os.ReadFile(*iso + ".label"); err == nil {
			simulator.V2oISOLabel = strings.TrimSpace(string(b))
		}
	}

	model := simulator.VPX()
	model.Datacenter = 1
	model.Cluster = 1
	model.ClusterHost = 2
	model.Host = 0
	model.Machine = 0
	model.Datastore = 1
	model.Portgroup = 0
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	mux := http.NewServeMux()
	model.Service.ServeMux = mux
	simulator.V2oInstall(mux)

	s := model.Service.NewServer()
	defer s.Close()
	// Swapped before anyone knows the port: nothing can be mid-request.
	s.Config.Handler = simulator.V2oRequireSession(s.Config.Handler)
	log.Printf("listening on %s after %s", s.URL.Host, time.Since(t0))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	seeded, err := seed(ctx, s.URL.String(), *username, *password, *caFile, inv, *disks)
	cancel()
	if err != nil {
		log.Fatalf("seeding failed: %v", err)
	}
	morefs := map[string]string{}
	for _, v := range seeded.VMs {
		morefs[v.Name] = v.Moref
	}
	work := filepath.Join(os.TempDir(), "v2o-export")
	if err := os.MkdirAll(work, 0o755); err != nil {
		log.Fatal(err)
	}
	simulator.V2oSetupCbt() // before the disks' first state write, which CBT must route
	if err := simulator.V2oSetupDisks(*disks, seeded.DatastoreDir, work, *manifestOut, morefs); err != nil {
		log.Fatalf("guest state disks: %v", err)
	}
	if *readyFile != "" {
		if err := writeJSON(*readyFile, seeded); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("ready https://%s/sdk after %s\n", s.URL.Host, time.Since(t0).Round(time.Millisecond))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	<-sig
	log.Print("stopping")
}
