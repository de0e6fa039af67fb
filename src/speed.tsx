import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SpeedPage } from './ui/speed/SpeedPage';
import './ui/styles.css';
import './ui/speed/speed.css';

const root = document.getElementById('root');
if (!root) throw new Error('speed.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <SpeedPage />
  </StrictMode>,
);
