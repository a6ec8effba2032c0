/**
 * What every process checks before a deploy starts, before the server is
 * claimed or touched: the programs it runs here, and every reference it
 * will read (syntax, URL scheme, a file inside the allowed directories,
 * existing and readable). A bad reference is refused naming its field.
 */
import { isLibError } from '../../errors';
import { checkConfigDriveData } from '../config-drive/check';
import { DeployError } from '../errors';
import { checkTools, toolsFor } from '../preflight';
import type { DeployMethod, DeployRequest } from '../types';
import type { DeployDeps } from './deps';

const REFERENCES = ['image', 'deployIso', 'deployKernel', 'deployRamdisk', 'instanceKernel', 'instanceRamdisk'] as const;

export function preflightFor(method: DeployMethod): (request: DeployRequest, deps: DeployDeps) => Promise<void> {
  return async (request, deps) => {
    await checkTools(method, toolsFor(method, deps.settings));
    const media = await deps.media();
    for (const field of REFERENCES) {
      const ref = request[field];
      if (ref === undefined || ref === '') continue;
      try {
        await media.checkImage(ref, field);
      } catch (err) {
        // Whatever the store's reason (outside the allowed directories, missing, malformed), it is the request's fault.
        if (isLibError(err) && ['invalid-input', 'not-allowed', 'source'].includes(err.code)) {
          throw new DeployError('invalid-input', err.message.startsWith(`${field}`) ? err.message : `${field}: ${err.message}`, { field, cause: err });
        }
        throw err;
      }
    }
    // A ready config drive is decompressed and looked into here: a bad one fails no step later.
    await checkConfigDriveData(request.configDrive);
  };
}
