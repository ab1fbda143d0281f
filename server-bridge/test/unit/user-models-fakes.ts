/** Users' model files for the unit tests: a GGUF file, the config that opens them, alice's files. */
import type { IAuthUser } from '../../src/auth/decide';
import type { BridgeConfig } from '../../src/config';
import { SERVING_CONFIG, servingConfig } from './endpoints-fakes';
import { bucket, type IStorageFixture } from './storage-fakes';

/** A valid GGUF header (magic, version 3, no tensors, no metadata) and some bytes. */
export const GGUF = Buffer.concat([
  Buffer.from('GGUF', 'ascii'),
  Buffer.from([3, 0, 0, 0]),
  Buffer.alloc(16),
  Buffer.from('weights')
]);

export const USER_MODELS = {
  recipes: ['llama-server'],
  tierClasses: ['archive', 'scratch'],
  maxBytes: 1000
};

/** The serving config of the endpoint tests with user models open (null: closed). */
export function userModelsConfig(
  userModels: Record<string, unknown> | null = USER_MODELS
): BridgeConfig {
  return servingConfig({
    serving: {
      ...SERVING_CONFIG.serving,
      providers: { local: { maxReplicas: 4 } },
      ...(userModels === null ? {} : { userModels })
    },
    recipes: [
      ...SERVING_CONFIG.recipes,
      {
        name: 'vllm',
        command: ['/opt/vllm/bin/vllm', 'serve', '{model}', '--port', '{port}'],
        keyEnv: 'VLLM_API_KEY'
      }
    ]
  });
}

const user = (name: string, groups: string[]): IAuthUser => ({
  name,
  groups,
  roles: ['researcher'],
  instructorOf: [],
  admin: false
});
export const ALICE = user('alice', ['climate', 'medical', 'ml101']);
export const BOB = user('bob', ['genomics', 'ml101']);

/** Alice's files: GGUF models on archive, scratch and project, a text file, a big one. */
export function aliceFiles(fix: IStorageFixture): void {
  bucket(fix, 'hpc-archive').put('alice/results/42/model.gguf', GGUF);
  bucket(fix, 'hpc-archive').put('alice/results/copy.gguf', GGUF);
  bucket(fix, 'hpc-archive').put('alice/notes.txt', 'not a model');
  bucket(fix, 'hpc-archive').put('alice/big.gguf', Buffer.alloc(2000, 7));
  bucket(fix, 'hpc-project').put('ml101/model.gguf', GGUF);
  fix.fs.put('/scratch/u-alice/model.gguf', GGUF);
}
