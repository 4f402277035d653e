// Entry of the packaged desktop console.
import { runConsoleApp } from './console-app';

runConsoleApp();
