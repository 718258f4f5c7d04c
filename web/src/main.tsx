import { render } from 'preact';
import { App } from './components/App.tsx';
import './styles.css';
import './views.css';

render(<App />, document.getElementById('app')!);
