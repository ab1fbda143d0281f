import './base.css';
import './jobs.css';
import './storage.css';
import './endpoints.css';
import './admin.css';
import './course.css';
import './pages.css';
import './pipelines.css';
