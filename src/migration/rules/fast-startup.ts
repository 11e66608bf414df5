// Fast Startup (HiberbootEnabled=1) turns a shutdown into a hibernation of the kernel session: the
// copied disk would hold a hibernated Windows that resumes on hardware it has never seen. A bare
// hiberfil.sys only costs space (v2o's ShutdownGuest is a full shutdown).
import { blocker, guestRule, warning } from './types.js';

export const fastStartupRule = guestRule(['fast-startup', 'hibernation'], (g) => {
  if (g.fastStartup) {
    return [
      blocker(
        'fast-startup',
        'Fast Startup is on (HiberbootEnabled=1): a shutdown hibernates the kernel session, and the copied disk would resume it on new hardware',
        'turn hibernation off in the guest (powercfg /h off, which ends Fast Startup too), then plan again',
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
