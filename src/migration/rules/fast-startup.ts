// Fast Startup (HiberbootEnabled=1) can turn a shutdown into a hibernation of the kernel session
// (Microsoft: ExitWindowsEx EWX_HYBRID_SHUTDOWN, `shutdown /hybrid`): the copied disk would hold a
// hibernated Windows that resumes on hardware it has never seen. prepare-shutdown therefore turns
// it off just before the shutdown (and its rollback on again). A bare hiberfil.sys only costs space.
import { guestRule, warning } from './types.js';

export const fastStartupRule = guestRule(['fast-startup', 'hibernation'], (g) => {
  if (g.fastStartup) {
    return [
      warning(
        'fast-startup',
        'Fast Startup is on (HiberbootEnabled=1): v2o turns it off just before the shutdown (HiberbootEnabled=0), so the copied disk holds a Windows that was shut down, not a hibernated kernel; a rollback turns it on again',
        'nothing to do; to keep it off on OpenStack too, leave it so (powercfg /h off also drops hiberfil.sys)',
      ),
    ];
  }
  if (g.hibernation) {
    return [
      warning(
        'hibernation',
        'hibernation is enabled (hiberfil.sys): v2o shuts the guest down fully, so nothing is lost, but the file is copied with the disk',
        'run powercfg /h off in the guest to drop hiberfil.sys before the copy',
      ),
    ];
  }
  return [];
});
