// Nova gives an os_type=windows guest a hardware clock in local time (libvirt <clock
// offset='localtime'>); a Windows keeping RealTimeIsUniversal=1 reads it as UTC and is off by the
// host's UTC offset. `clock: localtime` (default) clears the value before shutdown.
import { guestRule, warning } from './types.js';

export const utcClockRule = guestRule(['utc-clock-cleared', 'utc-clock-kept'], (g, s) => {
  if (!g.realTimeIsUniversal) return [];
  if (s.clock === 'utc') {
    return [
      warning(
        'utc-clock-kept',
        'the guest keeps its hardware clock in UTC (RealTimeIsUniversal=1, clock: utc), but Nova gives Windows (os_type=windows) a local-time clock: its time is off by the compute host’s UTC offset until time sync corrects it',
        'run the compute hosts in UTC, or set clock: localtime (v2o clears RealTimeIsUniversal before shutdown)',
      ),
    ];
  }
  return [
    warning(
      'utc-clock-cleared',
      'the guest keeps its hardware clock in UTC (RealTimeIsUniversal=1): Nova gives Windows a local-time clock, so v2o clears RealTimeIsUniversal just before shutdown (clock: localtime); a rollback sets it back',
      'nothing to do; set clock: utc to keep the value',
    ),
  ];
});
