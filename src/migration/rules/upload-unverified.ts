// With no upload hashes, a corrupted upload of the right size would go unnoticed.
import { type Rule, warning } from './types.js';

export const uploadUnverifiedRule: Rule = {
  codes: ['upload-unverified'],
  side: 'target',
  evaluate: (_vm, settings) =>
    settings.uploadHashes.length === 0
      ? [
          warning(
            'upload-unverified',
            "uploadHashes is empty: uploads are checked by their size only, not against Glance's checksum",
            'keep the default uploadHashes: [md5] unless this host is too short of CPU to hash',
          ),
        ]
      : [],
};
