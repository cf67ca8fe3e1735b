package daemon

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the flows must be quiet before a reload: an editor
// saving several files, or writing one in steps, causes one reload.
const debounce = 250 * time.Millisecond

// watch reloads the plan when a .flow file under the flows directory is
// written, created, removed or renamed, until ctx ends.
func (d *Daemon) watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	// fsnotify watches directories, not trees: add every directory.
	err = filepath.WalkDir(d.cfg.Flows, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return w.Add(path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.log.Info("watching flows for changes", "dir", d.cfg.Flows)
	var timer *time.Timer
	fire := make(chan struct{}, 1)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.log.Warn("watching flows", "err", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
					_ = w.Add(ev.Name)
				}
			}
			if !strings.HasSuffix(ev.Name, ".flow") {
				continue
			}
			if timer == nil {
				timer = time.AfterFunc(debounce, func() {
					select {
					case fire <- struct{}{}:
					default:
					}
				})
			} else {
				timer.Reset(debounce)
			}
		case <-fire:
			d.log.Info("flows changed; reloading")
			_ = d.Reload() // a failure is logged and kept for /readyz
		}
	}
}
