// Preloaded into an `orch` child (node --import) so its EMR calls reach the fake EMR whose
// state file ORCH_TEST_FAKE_EMR names. Tests only: orch itself never loads this.
import { installFakeEmr } from './fake-emr.mjs';

installFakeEmr(process.env.ORCH_TEST_FAKE_EMR);
