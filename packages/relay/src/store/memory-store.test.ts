import { memoryStore } from './memory-store.js';
import { describeStreamStoreContract } from './stream-store.contract.js';

describeStreamStoreContract('memory', (retention) => memoryStore(retention));
