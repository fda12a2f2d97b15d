/** Side-effect module: importing it makes real training the default runner (CLI, server). */
import { registerTrainingRunner } from './runner';

registerTrainingRunner();
