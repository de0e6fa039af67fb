import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { startLab } from './ui/controller';
import { installPageDrop } from './ui/file-drop';
import { startTours } from './ui/tours';
import './ui/styles.css';
import './ui/results.css';

startLab();
installPageDrop();
startTours();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
