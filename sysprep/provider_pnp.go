package sysprep

import (
	"fmt"
	"strings"

	"github.com/reseal/reseal/winimage"
)

// keptEnumerators are the Enum branches generalize leaves: devices created
// by software at install time (ROOT) and the device tree's root (HTREE),
// which Plug and Play cannot rediscover at the next boot.
var keptEnumerators = map[string]bool{"ROOT": true, "HTREE": true}

// planPnP removes the device installs (the Enum instance keys of hardware
// and software-enumerated devices, their driver keys under Control\Class and
// their interface registrations under Control\DeviceClasses) so that the
// next boot detects the hardware afresh. Driver packages stay in the driver
// store. Nothing is removed with --mode vm or PersistAllDeviceInstalls.
func planPnP(v *winimage.Volume, o *Options) ([]Action, error) {
	s := o.run.settings
	if o.VM || s.PersistAllDeviceInstalls {
		// Whether a device is present can only be known on the running
		// machine; offline, non-present devices are kept too.
		return nil, nil
	}
	enum := ccs(v, "Enum")
	k, err := v.OpenKey(enum)
	if err != nil {
		return nil, nil
	}
	buses, err := k.SubKeys()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", enum, err)
	}
	var acts []Action
	var instances []string // Enum-relative instance paths: PCI\VEN_...\3&...
	driverKeys := map[string]bool{}
	for _, bus := range buses {
		if keptEnumerators[strings.ToUpper(bus.Name())] {
			continue
		}
		devices, err := bus.SubKeys()
		if err != nil {
			return nil, fmt.Errorf("%s\\%s: %w", enum, bus.Name(), err)
		}
		for _, dev := range devices {
			insts, err := dev.SubKeys()
			if err != nil {
				return nil, fmt.Errorf("%s\\%s\\%s: %w", enum, bus.Name(), dev.Name(), err)
			}
			for _, inst := range insts {
				instPath := bus.Name() + `\` + dev.Name() + `\` + inst.Name()
				instances = append(instances, instPath)
				if drv, err := inst.Value("Driver"); err == nil {
					if s, err := drv.String(); err == nil && s != "" {
						ref := ccs(v, `Control\Class\`+s)
						if !strings.Contains(s, "..") && !driverKeys[strings.ToUpper(s)] && v.KeyExists(ref) {
							driverKeys[strings.ToUpper(s)] = true
							acts = append(acts, deleteKey(ref, "driver key of "+instPath))
						}
					}
				}
			}
			ref := winimage.KeyRef{Hive: enum.Hive, Path: enum.Path + `\` + bus.Name() + `\` + dev.Name()}
			acts = append(acts, deleteKey(ref, fmt.Sprintf("device install (%d instance(s))", len(insts))))
		}
	}
	ifaces, err := interfaceKeys(v, instances)
	if err != nil {
		return nil, err
	}
	return append(acts, ifaces...), nil
}

// interfaceKeys finds the device interface registrations
// (Control\DeviceClasses\{class}\##?#PCI#VEN_...#{class}) of removed devices.
func interfaceKeys(v *winimage.Volume, instances []string) ([]Action, error) {
	if len(instances) == 0 {
		return nil, nil
	}
	removed := map[string]bool{}
	for _, inst := range instances {
		removed[strings.ToUpper(strings.ReplaceAll(inst, `\`, "#"))] = true
	}
	dc := ccs(v, `Control\DeviceClasses`)
	k, err := v.OpenKey(dc)
	if err != nil {
		return nil, nil
	}
	classes, err := k.SubKeys()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dc, err)
	}
	var acts []Action
	for _, class := range classes {
		names, err := class.SubKeyNames()
		if err != nil {
			return nil, fmt.Errorf("%s\\%s: %w", dc, class.Name(), err)
		}
		for _, n := range names {
			// ##?#PCI#VEN_8086&DEV_100E#3&267A616A&0&18#{guid}
			body := strings.TrimPrefix(n, "##?#")
			if i := strings.LastIndex(body, "#{"); i >= 0 {
				body = body[:i]
			}
			if removed[strings.ToUpper(body)] {
				ref := winimage.KeyRef{Hive: dc.Hive, Path: dc.Path + `\` + class.Name() + `\` + n}
				acts = append(acts, deleteKey(ref, "interface of a removed device"))
			}
		}
	}
	return acts, nil
}
